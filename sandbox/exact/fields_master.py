"""Property lists and types of the master-data entity sets and of ``current/Me``.

Journal, GLAccount, Document, DocumentAttachment and Me follow the fixtures; the others the
REST reference as recorded in picqer/exact-php-client's models.
"""

from __future__ import annotations

from .fields import AUDIT, BINARY, BOOL, DATE, DOUBLE, GUID, INT, words

JOURNAL = words(
    "AllowVariableCurrency AllowVariableExchangeRate AllowVAT AutoSave Bank BankAccountBICCode "
    "BankAccountCountry BankAccountDescription BankAccountIBAN BankAccountID "
    "BankAccountIncludingMask BankAccountUseSEPA BankAccountUseSepaDirectDebit BankName Code "
    "Created Creator CreatorFullName Currency CurrencyDescription CustomField Description "
    "Division GLAccount GLAccountCode GLAccountDescription GLAccountType ID IsBlocked Modified "
    "Modifier ModifierFullName PaymentInTransitAccount PaymentServiceAccountIdentifier "
    "PaymentServiceProvider PaymentServiceProviderName Type"
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
    "ID Account AccountCode AccountName CalculationBasis Charged Code Country Created Creator "
    "CreatorFullName Description Division EUSalesListing GLDiscountPurchase GLDiscountSales "
    "GLToClaim GLToClaimCode GLToClaimDescription GLToPay GLToPayCode GLToPayDescription "
    "IntraStat IsBlocked LegalText Modified Modifier ModifierFullName Percentage TaxReturnType "
    "Type VATDocType VATMarginScheme VATPartialRatio VATPercentages VATTransactionType"
)
VAT_CODE_TYPES = {
    **AUDIT,
    **dict.fromkeys(words("ID Account GLDiscountPurchase GLDiscountSales GLToClaim GLToPay"), GUID),
    **dict.fromkeys(words("Charged IntraStat IsBlocked"), BOOL),
    **dict.fromkeys(words("CalculationBasis VATPartialRatio"), INT),
    "Percentage": DOUBLE,
    "VATPercentages": "deferred",
}

GL_ACCOUNT = words(
    "BalanceSide BalanceType BelcotaxType Code Compress Costcenter CostcenterDescription "
    "Costunit CostunitDescription Created Creator CreatorFullName Description Division "
    "ExcludeVATListing ExpenseNonDeductiblePercentage ID IsBlocked Matching Modified Modifier "
    "ModifierFullName PrivateGLAccount PrivatePercentage ReportingCode RevalueCurrency "
    "SearchCode Type TypeDescription UseCostcenter UseCostunit VATCode VATDescription "
    "VATGLAccountType VATNonDeductibleGLAccount VATNonDeductiblePercentage "
    "YearEndCostGLAccount YearEndReflectionGLAccount"
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
    **dict.fromkeys(words("BelcotaxType ExcludeVATListing Type UseCostcenter UseCostunit"), INT),
    **dict.fromkeys(
        words("ExpenseNonDeductiblePercentage PrivatePercentage VATNonDeductiblePercentage"),
        DOUBLE,
    ),
}

PAYMENT_CONDITION = words(
    "ID Code Created Creator CreatorFullName CreditManagementScenario "
    "CreditManagementScenarioDescription Description DiscountCalculation "
    "DiscountCalculationDescription DiscountPaymentDays Division Modified Modifier "
    "ModifierFullName PaymentDays PaymentDiscountType PaymentEndOfMonths PaymentMethod "
    "PaymentMethodDescription Percentage VATCalculation VATCalculationDescription"
)
PAYMENT_CONDITION_TYPES = {
    **AUDIT,
    **dict.fromkeys(words("ID CreditManagementScenario"), GUID),
    **dict.fromkeys(words("DiscountPaymentDays PaymentDays PaymentEndOfMonths"), INT),
    "Percentage": DOUBLE,
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
    "ContactFullName Created Creator CreatorFullName Currency Division DocumentDate "
    "DocumentFolder DocumentFolderCode DocumentFolderDescription DocumentViewUrl ExpiryDate "
    "FinancialTransactionEntryID HasEmptyBody HID Language Modified Modifier ModifierFullName "
    "ShopOrderNumber Subject Type TypeDescription Opportunity Project ProjectCode "
    "ProjectDescription ProposedEntryStatus SalesInvoiceNumber SalesOrderNumber SendMethod "
    "InheritShare Item ItemCode ItemDescription TeamsMeetingId ContractNumber ContractID "
    "ScanServiceStatus EntryStatusDescription ActionRegenerateEntryProposal CostcenterCode "
    "CostcenterDescription CostunitCode CostunitDescription"
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
        "ProjectDescription ItemCode ItemDescription EntryStatusDescription CostcenterDescription "
        "CostunitDescription"
    )
)

ATTACHMENT = words("ID Attachment FileName FileSize Url Document")
ATTACHMENT_TYPES = {"ID": GUID, "Attachment": BINARY, "FileSize": DOUBLE, "Document": GUID}
ATTACHMENT_READ_ONLY = frozenset({"ID", "FileSize", "Url"})

DIVISION = words(
    "Code BlockingStatus Country CountryDescription Created Creator CreatorFullName Currency "
    "CurrencyDescription Customer CustomerCode CustomerName Description HID Main Modified "
    "Modifier ModifierFullName OBNumber SiretNumber StartDate Status TaxOfficeNumber "
    "TaxReferenceNumber VATNumber Website"
)
DIVISION_TYPES = {
    **dict.fromkeys(words("Code BlockingStatus Status"), INT),
    **dict.fromkeys(words("Creator Customer Modifier"), GUID),
    **dict.fromkeys(words("Created Modified StartDate"), DATE),
    "HID": INT,
    "Main": BOOL,
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
