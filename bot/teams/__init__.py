"""Teams, for every feature: product and service teams in one table, and the teams file."""
