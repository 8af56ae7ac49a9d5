"""Call-tracking providers behind one seam (`base.Provider`)."""
