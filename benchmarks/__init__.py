"""The project's own benchmarks (run each as ``python -m benchmarks.<name>``)."""
