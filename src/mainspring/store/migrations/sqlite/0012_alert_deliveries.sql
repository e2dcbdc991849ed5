-- What each alert channel (webhook, slack, email) was last told about each rule, so that its
-- throttle holds across restarts and processes (issue 18): `announced` is 1 while the channel's
-- last message about the rule said "firing"; `fired_at` is when that message went out;
-- `suppressed` counts trips held back by the throttle since.
CREATE TABLE alert_deliveries (
    rule       TEXT NOT NULL,
    channel    TEXT NOT NULL,
    announced  INTEGER NOT NULL,
    fired_at   INTEGER,
    suppressed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (rule, channel)
);

-- The webhook already announced the rules firing now: do not post them again after the upgrade.
INSERT INTO alert_deliveries (rule, channel, announced, fired_at, suppressed)
SELECT rule, 'webhook', 1, since, 0 FROM alert_states WHERE firing = 1;
