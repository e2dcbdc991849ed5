"""Operating the server: kill switch, pausing functions, reruns and bulk replays, alerts."""
