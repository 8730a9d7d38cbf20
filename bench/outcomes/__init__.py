"""The outcomes benchmark: indicator breakdowns over a million measures."""
