"""Flow control: pure decisions (may this run start, when may it run next) and their config."""
