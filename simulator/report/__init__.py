"""Reports: plots (PNG and PDF) and timeline export (Chrome trace / Perfetto)."""
