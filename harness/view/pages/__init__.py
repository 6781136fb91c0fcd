"""One module per view: the runs list, a run, its samples, one example side by side, compare, trends."""
