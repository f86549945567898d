"""Remediation actions: plan -> confirm -> execute -> verify -> journal.  No Textual here."""
