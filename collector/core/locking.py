"""Reading rows in order to change them: locked until the transaction ends, read afresh."""

import sqlalchemy as sa


def for_update(model, *conditions) -> sa.Select:
    """``select(model).where(*conditions)`` that locks the rows it reads until the
    transaction ends and reads them afresh (``populate_existing``): a concurrent writer
    waits for us, and we see what one committed before us, not a stale copy."""
    return (
        sa.select(model)
        .where(*conditions)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
