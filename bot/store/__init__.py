"""Tables and the only SQL of the project: posts and their transitions, the publish log,
catalogue, slots, tokens, call counters, media cache, users."""
