-- Signal waits (`step.waitForSignal`) are pauses of kind 'signal' stored under event_name = the
-- signal's name and match_field = '@signal': no event expression yields that field, so no event
-- ever matches one. At most one run waits on a signal name; a wait that was replaced, or ran
-- past its expiry, is moved out of the way ('@signal-released') and waits for its timeout.
CREATE UNIQUE INDEX pauses_one_signal ON pauses(event_name) WHERE match_field = '@signal';
