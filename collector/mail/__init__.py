"""Mail: the texts (letters), their delivery (SMTP or the demo sink), every message
sent as a row, and the invitations and reminders each document owes its customer."""
