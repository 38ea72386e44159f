"""The province's inventory: the units table and what is derived from it."""
