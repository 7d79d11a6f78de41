"""The council's record: the audit log of every change, backups, restore and retention."""
