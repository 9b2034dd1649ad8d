"""Read side: pure query functions over a company's published snapshot (no Streamlit)."""
