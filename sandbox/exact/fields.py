"""Property lists and types of the emulated entity sets.

These lists (here and in ``fields_master``) are the verified property names of every entity
the client reads or writes; the API refuses any other name in ``$select``, ``$filter`` and
``$orderby`` with a 400, as Exact does, so a misspelt select fails in the tests, not at a
customer's. Each list is the union of two models generated from Exact's REST reference
pages (``HlpRestAPIResourcesDetails.aspx?name=<Service><Entity>``), in their order:
- Pi-Systems/exact-online ``src/Entity/<Service>/<Entity>.php`` (commit 91a4116), which also
  records the Edm type and the methods per property;
- picqer/exact-php-client ``src/Picqer/Financials/Exact/<Model>.php`` (commit 8b35057, Dec
  2025): SystemDivision, Me, Journal, VatCode, GLAccount, PaymentCondition, DocumentType,
  Account, SalesEntry, SalesEntryLine, Document, DocumentAttachment, Receivable.
The fixtures (reference/fixtures/exact-online) agree where they show a record. Every
property not listed in a ``*_TYPES`` map is an ``Edm.String``.
"""

from __future__ import annotations

GUID, INT, DOUBLE, BOOL, DATE, BINARY, DEFERRED = (
    "Guid",
    "Int32",
    "Double",
    "Boolean",
    "DateTime",
    "Byte[]",
    "deferred",
)


def words(text: str) -> list[str]:
    """Property names from a space-separated list (keeps the long lists readable)."""
    return text.split()


AUDIT = {"Created": DATE, "Creator": GUID, "Modified": DATE, "Modifier": GUID, "Division": INT}
READ_ONLY = frozenset(
    {"Created", "Creator", "CreatorFullName", "Modified", "Modifier", "ModifierFullName"}
    | {"Division"}
)

ACCOUNT = words(
    "ID Accountant AccountManager AccountManagerFullName AccountManagerHID ActivitySector "
    "ActivitySubSector AddressLine1 AddressLine2 AddressLine3 AddressSource "
    "AutomaticProcessProposedEntry BankAccounts Blocked BRIN BSN BusinessType CanDropShip "
    "ChamberOfCommerce City Classification Classification1 Classification2 Classification3 "
    "Classification4 Classification5 Classification6 Classification7 Classification8 "
    "ClassificationDescription Code CodeAtSupplier CompanySize ConsolidationScenario "
    "ControlledDate Costcenter CostcenterDescription CostPaid Country CountryName Created "
    "Creator CreatorFullName CreditLinePurchase CreditLineSales Currency CustomerSince "
    "CustomField DatevCreditorCode DatevDebtorCode DeliveryAdvice DiscountPurchase "
    "DiscountSales Division Document DunsNumber Email EnableSalesPaymentLink EndDate "
    "EORINumber EstablishedDate Fax GLAccountPurchase GLAccountSales GLAP GLAR GlnNumber "
    "HasWithholdingTaxSales IgnoreDatevWarningMessage IncotermAddressPurchase "
    "IncotermAddressSales IncotermCodePurchase IncotermCodeSales IncotermVersionPurchase "
    "IncotermVersionSales IntraStatArea IntraStatDeliveryTerm IntraStatSystem "
    "IntraStatTransactionA IntraStatTransactionB IntraStatTransportMethod InvoiceAccount "
    "InvoiceAccountCode InvoiceAccountName InvoiceAttachmentType InvoicingMethod "
    "IsAccountant IsAgency IsAnonymised IsBank IsCompetitor IsExtraDuty IsMailing IsMember "
    "IsPilot IsPurchase IsReseller IsSales IsSupplier Language LanguageDescription Latitude "
    "LeadPurpose LeadSource Logo LogoFileName LogoThumbnailUrl LogoUrl Longitude "
    "MainContact Modified Modifier ModifierFullName Name OINNumber Parent PayAsYouEarn "
    "PaymentConditionPurchase PaymentConditionPurchaseDescription PaymentConditionSales "
    "PaymentConditionSalesDescription PeppolIdentifier PeppolIdentifierType Phone "
    "PhoneExtension Postcode PriceList PurchaseCurrency PurchaseCurrencyDescription "
    "PurchaseLeadDays PurchaseVATCode PurchaseVATCodeDescription RecepientOfCommissions "
    "Remarks Reseller ResellerCode ResellerName RSIN SalesCurrency SalesCurrencyDescription "
    "SalesTaxSchedule SalesTaxScheduleCode SalesTaxScheduleDescription SalesVATCode "
    "SalesVATCodeDescription SearchCode SecurityLevel SeparateInvPerProject "
    "SeparateInvPerSubscription ShippingLeadDays ShippingMethod ShowRemarkForSales Source "
    "StartDate State StateName Status StatusSince TradeName Type UniqueTaxpayerReference "
    "VATLiability VATNumber Website"
)
ACCOUNT_TYPES = {
    **AUDIT,
    **dict.fromkeys(
        words(
            "ID Accountant AccountManager Document GLAccountPurchase GLAccountSales GLAP GLAR "
            "InvoiceAccount MainContact Parent Reseller Costcenter"
        ),
        GUID,
    ),
    **dict.fromkeys(
        words(
            "Blocked CanDropShip IsBank IsMember IsPilot IsPurchase IsReseller IsSales IsSupplier "
            "IsExtraDuty ShowRemarkForSales RecepientOfCommissions"
        ),
        BOOL,
    ),
    **dict.fromkeys(
        words(
            "CostPaid CreditLinePurchase CreditLineSales DiscountPurchase DiscountSales Latitude "
            "Longitude"
        ),
        DOUBLE,
    ),
    **dict.fromkeys(
        words(
            "AccountManagerHID ConsolidationScenario InvoiceAttachmentType InvoicingMethod "
            "IsAccountant IsAgency IsAnonymised IsCompetitor IsMailing PurchaseLeadDays "
            "SecurityLevel SeparateInvPerProject SeparateInvPerSubscription ShippingLeadDays"
        ),
        INT,
    ),
    **dict.fromkeys(words("ControlledDate CustomerSince EndDate EstablishedDate StartDate"), DATE),
    "StatusSince": DATE,
    "Logo": BINARY,
    "BankAccounts": DEFERRED,
}

SALES_ENTRY = words(
    "EntryID AmountDC AmountFC BatchNumber Created Creator CreatorFullName Currency "
    "Customer CustomerName CustomField Description Division Document DocumentNumber "
    "DocumentSubject DueDate EntryDate EntryNumber ExternalLinkDescription "
    "ExternalLinkReference GAccountAmountFC InvoiceNumber IsExtraDuty Journal "
    "JournalDescription Modified Modifier ModifierFullName OrderNumber PaymentCondition "
    "PaymentConditionDescription PaymentConditionPaymentMethod PaymentReference "
    "ProcessNumber Rate ReportingPeriod ReportingYear Reversal SalesEntryLines Status "
    "StatusDescription Type TypeDescription VATAmountDC VATAmountFC WithholdingTaxAmountDC "
    "WithholdingTaxBaseAmount WithholdingTaxPercentage YourRef"
)
SALES_ENTRY_TYPES = {
    **AUDIT,
    **dict.fromkeys(words("EntryID Customer Document"), GUID),
    **dict.fromkeys(
        words("AmountDC AmountFC GAccountAmountFC Rate VATAmountDC VATAmountFC"), DOUBLE
    ),
    **dict.fromkeys(
        words(
            "BatchNumber DocumentNumber EntryNumber InvoiceNumber OrderNumber ProcessNumber "
            "ReportingPeriod ReportingYear Status Type"
        ),
        INT,
    ),
    **dict.fromkeys(words("DueDate EntryDate"), DATE),
    **dict.fromkeys(words("IsExtraDuty Reversal"), BOOL),
    "SalesEntryLines": DEFERRED,
}
SALES_ENTRY_READ_ONLY = READ_ONLY | frozenset(
    words(
        "EntryID AmountDC AmountFC BatchNumber CustomerName DocumentNumber DocumentSubject "
        "JournalDescription PaymentConditionDescription ProcessNumber Status StatusDescription "
        "Type TypeDescription VATAmountDC ExternalLinkDescription"
    )
)

SALES_ENTRY_LINE = words(
    "ID AmountDC AmountFC Asset AssetDescription CostCenter CostCenterDescription CostUnit "
    "CostUnitDescription CustomField Description Division EntryID ExtraDutyAmountFC "
    "ExtraDutyPercentage From GLAccount GLAccountCode GLAccountDescription IntraStatArea "
    "IntraStatCountry IntraStatDeliveryTerm IntraStatTransactionA IntraStatTransactionB "
    "IntraStatTransportMethod LineNumber Notes Project ProjectDescription ProjectWBS "
    "ProjectWBSDescription Quantity SerialNumber StatisticalNetWeight StatisticalNumber "
    "StatisticalQuantity StatisticalValue Subscription SubscriptionDescription TaxSchedule "
    "To TrackingNumber TrackingNumberDescription Type VATAmountDC VATAmountFC "
    "VATBaseAmountDC VATBaseAmountFC VATCode VATCodeDescription VATPercentage"
)
SALES_ENTRY_LINE_TYPES = {
    "Division": INT,
    **dict.fromkeys(words("ID Asset EntryID GLAccount Project Subscription"), GUID),
    **dict.fromkeys(
        words(
            "AmountDC AmountFC ExtraDutyAmountFC ExtraDutyPercentage Quantity StatisticalNetWeight "
            "StatisticalValue VATAmountDC VATAmountFC VATBaseAmountDC VATBaseAmountFC "
            "VATPercentage"
        ),
        DOUBLE,
    ),
    **dict.fromkeys(words("LineNumber Type"), INT),
    **dict.fromkeys(words("From To"), DATE),
}
SALES_ENTRY_LINE_READ_ONLY = frozenset(
    words(
        "ID AmountDC AssetDescription CostCenterDescription CostUnitDescription Division "
        "GLAccountCode GLAccountDescription LineNumber ProjectDescription SubscriptionDescription "
        "TrackingNumberDescription Type VATAmountDC VATBaseAmountDC VATCodeDescription "
        "VATPercentage"
    )
)

RECEIVABLE = words(
    "ID Account AccountBankAccountID AccountBankAccountNumber AccountCode AccountContact "
    "AccountContactName AccountCountry AccountName AmountDC AmountDiscountDC "
    "AmountDiscountFC AmountFC BankAccountID BankAccountNumber CashflowTransactionBatchCode "
    "Created Creator CreatorFullName Currency Description DirectDebitMandate "
    "DirectDebitMandateDescription DirectDebitMandatePaymentType "
    "DirectDebitMandateReference DirectDebitMandateType DiscountDueDate Division Document "
    "DocumentNumber DocumentSubject DueDate EndDate EndPeriod EndToEndID EndYear EntryDate "
    "EntryID EntryNumber GLAccount GLAccountCode GLAccountDescription InvoiceDate "
    "InvoiceNumber IsBatchBooking IsFullyPaid Journal JournalDescription LastPaymentDate "
    "Modified Modifier ModifierFullName OrderNumber PaymentCondition "
    "PaymentConditionDescription PaymentDays PaymentDaysDiscount PaymentDiscountPercentage "
    "PaymentInformationID PaymentMethod PaymentReference RateFC ReceivableBatchNumber "
    "ReceivableSelected ReceivableSelector ReceivableSelectorFullName Source Status "
    "TransactionAmountDC TransactionAmountFC TransactionDueDate TransactionEntryID "
    "TransactionID TransactionIsReversal TransactionReportingPeriod "
    "TransactionReportingYear TransactionStatus TransactionType YourRef"
)
RECEIVABLE_TYPES = {
    **AUDIT,
    **dict.fromkeys(
        words(
            "ID Account AccountBankAccountID AccountContact BankAccountID DirectDebitMandate "
            "Document EntryID GLAccount ReceivableSelector TransactionEntryID TransactionID"
        ),
        GUID,
    ),
    **dict.fromkeys(
        words(
            "AmountDC AmountDiscountDC AmountDiscountFC AmountFC PaymentDiscountPercentage RateFC "
            "TransactionAmountDC TransactionAmountFC"
        ),
        DOUBLE,
    ),
    **dict.fromkeys(
        words(
            "DirectDebitMandatePaymentType DirectDebitMandateType DocumentNumber EndPeriod EndYear "
            "EntryNumber InvoiceNumber IsBatchBooking PaymentDays PaymentDaysDiscount "
            "ReceivableBatchNumber Source Status TransactionReportingPeriod "
            "TransactionReportingYear TransactionStatus TransactionType"
        ),
        INT,
    ),
    **dict.fromkeys(
        words(
            "DiscountDueDate DueDate EndDate EntryDate InvoiceDate LastPaymentDate "
            "ReceivableSelected TransactionDueDate"
        ),
        DATE,
    ),
    **dict.fromkeys(words("IsFullyPaid TransactionIsReversal"), BOOL),
}
