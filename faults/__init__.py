"""The fault suite (``make faults``): real processes, real faults, rows counted.

``stack`` starts the processes, ``world`` sets up the account, ``kills`` and ``storms`` hold
the scenarios, ``runner`` plays them and ``report`` prints the table.
"""
