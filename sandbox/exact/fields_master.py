"""Property lists and types of the master-data entity sets and of ``current/Me``.

With ``fields`` this is the one place the names of every entity we use are kept; see that
module's docstring for the sources. ``system/Divisions`` is not ``hrm/Divisions``: its
customer number is ``Hid`` and its main flag ``IsMainDivision`` (``HID``/``Main`` belong to
``hrm/Divisions``, picqer ``Division.php``), and Exact refuses the other spelling.
"""

from __future__ import annotations

from .fields import AUDIT, BINARY, BOOL, DATE, DOUBLE, GUID, INT, words

JOURNAL = words(
    "ID AllowVariableCurrency AllowVariableExchangeRate AllowVAT AutoSave Bank "
    "BankAccountBICCode BankAccountCountry BankAccountDescription BankAccountIBAN "
    "BankAccountID BankAccountIncludingMask BankAccountUseSEPA "
    "BankAccountUseSepaDirectDebit BankName Code Created Creator CreatorFullName Currency "
    "CurrencyDescription CustomField Description Division GLAccount GLAccountCode "
    "GLAccountDescription GLAccountType IsBlocked Modified Modifier ModifierFullName "
    "PaymentInTransitAccount PaymentServiceAccountIdentifier PaymentServiceProvider "
    "PaymentServiceProviderName Type"
)
JOURNAL_TYPES = {
    **AUDIT,
    **dict.fromkeys(words("Bank BankAccountID GLAccount ID PaymentInTransitAccount"), GUID),
    **dict.fromkeys(
        words(
            "AllowVariableCurrency AllowVariableExchangeRate AllowVAT AutoSave BankAccountUseSEPA "
            "BankAccountUseSepaDirectDebit IsBlocked"
        ),
        BOOL,
    ),
    **dict.fromkeys(words("GLAccountType PaymentServiceProvider Type"), INT),
}

VAT_CODE = words(
    "ID Account AccountCode AccountName CalculationBasis Charged Code Country Created "
    "Creator CreatorFullName CustomField Description Division EUSalesListing "
    "ExcludeVATListing GLDiscountPurchase GLDiscountPurchaseCode "
    "GLDiscountPurchaseDescription GLDiscountSales GLDiscountSalesCode "
    "GLDiscountSalesDescription GLToClaim GLToClaimCode GLToClaimDescription GLToPay "
    "GLToPayCode GLToPayDescription IntraStat IntrastatType IsBlocked LegalText Modified "
    "Modifier ModifierFullName OssCountry Percentage TaxReturnType Type VatDocType "
    "VatMargin VATPartialRatio VATPercentages VATTransactionType"
)
VAT_CODE_TYPES = {
    **AUDIT,
    **dict.fromkeys(words("ID Account GLDiscountPurchase GLDiscountSales GLToClaim GLToPay"), GUID),
    **dict.fromkeys(words("Charged IntraStat IsBlocked"), BOOL),
    **dict.fromkeys(
        words("CalculationBasis ExcludeVATListing TaxReturnType VatMargin VATPartialRatio"), INT
    ),
    "Percentage": DOUBLE,
    "VATPercentages": "deferred",
}

GL_ACCOUNT = words(
    "ID AllowCostsInSales AssimilatedVATBox BalanceSide BalanceType BelcotaxType Code "
    "Compress Costcenter CostcenterDescription Costunit CostunitDescription Created Creator "
    "CreatorFullName CustomField DeductibilityPercentages Description DescriptionTermID "
    "Division ExcludeVATListing ExpenseNonDeductiblePercentage IsBlocked Matching Modified "
    "Modifier ModifierFullName PrivateGLAccount PrivatePercentage ReportingCode "
    "RevalueCurrency SearchCode Type TypeDescription UseCostcenter UseCostunit VATCode "
    "VATDescription VATGLAccountType VATNonDeductibleGLAccount VATNonDeductiblePercentage "
    "VATSystem YearEndCostGLAccount YearEndReflectionGLAccount"
)
GL_ACCOUNT_TYPES = {
    **AUDIT,
    **dict.fromkeys(
        words(
            "ID PrivateGLAccount VATNonDeductibleGLAccount YearEndCostGLAccount "
            "YearEndReflectionGLAccount"
        ),
        GUID,
    ),
    **dict.fromkeys(words("Compress IsBlocked Matching RevalueCurrency"), BOOL),
    **dict.fromkeys(
        words(
            "AllowCostsInSales AssimilatedVATBox BelcotaxType DescriptionTermID ExcludeVATListing "
            "Type UseCostcenter UseCostunit"
        ),
        INT,
    ),
    "DeductibilityPercentages": "deferred",
    **dict.fromkeys(
        words("ExpenseNonDeductiblePercentage PrivatePercentage VATNonDeductiblePercentage"),
        DOUBLE,
    ),
}

PAYMENT_CONDITION = words(
    "ID Code Created Creator CreatorFullName CreditManagementScenario "
    "CreditManagementScenarioCode CreditManagementScenarioDescription Description "
    "DiscountCalculation DiscountPaymentDays DiscountPercentage Division Modified Modifier "
    "ModifierFullName PaymentDays PaymentDiscountType PaymentEndOfMonths PaymentMethod "
    "Percentage VATCalculation"
)
PAYMENT_CONDITION_TYPES = {
    **AUDIT,
    **dict.fromkeys(words("ID CreditManagementScenario"), GUID),
    **dict.fromkeys(words("DiscountPaymentDays PaymentDays PaymentEndOfMonths"), INT),
    **dict.fromkeys(words("DiscountPercentage Percentage"), DOUBLE),
}

DOCUMENT_TYPE = words(
    "ID Created Description DocumentIsCreatable DocumentIsDeletable DocumentIsUpdatable "
    "DocumentIsViewable Modified TypeCategory"
)
DOCUMENT_TYPE_TYPES = {
    "ID": INT,
    "Created": DATE,
    "Modified": DATE,
    "TypeCategory": INT,
    **dict.fromkeys(
        words("DocumentIsCreatable DocumentIsDeletable DocumentIsUpdatable DocumentIsViewable"),
        BOOL,
    ),
}

DOCUMENT = words(
    "ID Account AccountCode AccountName AmountFC Body Category CategoryDescription Contact "
    "ContactFullName ContractID ContractNumber Created Creator CreatorFullName Currency "
    "Division DocumentDate DocumentFolder DocumentFolderCode DocumentFolderDescription "
    "DocumentViewUrl ExpiryDate FinancialTransactionEntryID HasEmptyBody HID InheritShare "
    "Item ItemCode ItemDescription Language Modified Modifier ModifierFullName Opportunity "
    "Project ProjectCode ProjectDescription ProposedEntryStatus SalesInvoiceNumber "
    "SalesOrderNumber ScanServiceStatus SendMethod ShopOrderNumber Subject TeamsMeetingId "
    "Type TypeDescription ActionRegenerateEntryProposal EntryStatusDescription"
)
DOCUMENT_TYPES = {
    **AUDIT,
    **dict.fromkeys(
        words(
            "ID Account Category Contact DocumentFolder FinancialTransactionEntryID Opportunity "
            "Project Item ContractID"
        ),
        GUID,
    ),
    **dict.fromkeys(
        words(
            "HID ShopOrderNumber SalesInvoiceNumber SalesOrderNumber SendMethod Type "
            "ProposedEntryStatus ScanServiceStatus"
        ),
        INT,
    ),
    **dict.fromkeys(words("DocumentDate ExpiryDate"), DATE),
    **dict.fromkeys(words("HasEmptyBody InheritShare ActionRegenerateEntryProposal"), BOOL),
    "AmountFC": DOUBLE,
}
DOCUMENT_READ_ONLY = frozenset(
    words(
        "ID AccountCode AccountName CategoryDescription ContactFullName Created Creator "
        "CreatorFullName Division DocumentFolderCode DocumentFolderDescription DocumentViewUrl "
        "HasEmptyBody HID Modified Modifier ModifierFullName TypeDescription ProjectCode "
        "ProjectDescription ItemCode ItemDescription EntryStatusDescription"
    )
)

ATTACHMENT = words("ID Attachment FileName FileSize Url Document")
ATTACHMENT_TYPES = {"ID": GUID, "Attachment": BINARY, "FileSize": DOUBLE, "Document": GUID}
ATTACHMENT_READ_ONLY = frozenset({"ID", "FileSize", "Url"})

DIVISION = words(
    "Code AddressLine1 AddressLine2 AddressLine3 ArchiveDate BlockingStatus "
    "BusinessTypeCode BusinessTypeDescription ChamberOfCommerceEstablishment "
    "ChamberOfCommerceNumber City Class_01 Class_02 Class_03 Class_04 Class_05 "
    "CompanySizeCode CompanySizeDescription Country Created Creator CreatorFullName "
    "Currency Current Customer CustomerCode CustomerName DatevAccountantNumber "
    "DatevClientNumber Description DivisionHRLinkUnlinkDate DivisionMoveDate Email Fax Hid "
    "IsDossierDivision IsHRDivision IsMainDivision IsPracticeDivision Legislation Modified "
    "Modifier ModifierFullName OBNumber Phone Postcode SbiCode SbiDescription SectorCode "
    "SectorDescription ShareCapital SiretNumber StartDate State Status SubsectorCode "
    "SubsectorDescription TaxOfficeNumber TaxReferenceNumber TemplateCode VATNumber Website"
)
DIVISION_TYPES = {
    **dict.fromkeys(words("Code BlockingStatus Status Hid"), INT),
    **dict.fromkeys(words("Creator Customer Modifier"), GUID),
    **dict.fromkeys(
        words("ArchiveDate Created DivisionHRLinkUnlinkDate DivisionMoveDate Modified StartDate"),
        DATE,
    ),
    **dict.fromkeys(
        words("Current IsDossierDivision IsHRDivision IsMainDivision IsPracticeDivision"), BOOL
    ),
    "ShareCapital": DOUBLE,
}

ME = words(
    "CurrentDivision DivisionCustomer DivisionCustomerCode DivisionCustomerName "
    "DivisionCustomerVatNumber DivisionCustomerSiretNumber DossierDivision AccountingDivision "
    "IsEmployeeSelfServiceUser IsMyFirmLiteUser IsStarterUser IsMyFirmPortalUser IsClientUser "
    "FullName PictureUrl ThumbnailPicture ThumbnailPictureFormat UserID UserName LanguageCode "
    "Legislation Email Title Initials FirstName MiddleName LastName Gender Nationality Language "
    "Phone PhoneExtension Mobile ServerTime ServerUtcOffset EmployeeID CustomerCode "
    "PackageCode IsOEIMigrationMandatory"
)
ME_TYPES = {
    **dict.fromkeys(
        words("CurrentDivision DossierDivision AccountingDivision ServerUtcOffset"), INT
    ),
    **dict.fromkeys(words("DivisionCustomer UserID EmployeeID"), GUID),
    **dict.fromkeys(
        words(
            "IsEmployeeSelfServiceUser IsMyFirmLiteUser IsStarterUser IsMyFirmPortalUser "
            "IsClientUser IsOEIMigrationMandatory"
        ),
        BOOL,
    ),
    "ThumbnailPicture": BINARY,
}
