"""J-LIS numbering (付番): individual numbers (個人番号) and their check digits."""
