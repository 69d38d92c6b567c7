"""What every page shares: templates, forms, CSRF, the page shell."""
