"""Export certificates: data entry, review, issue, send, and what becomes of them."""
