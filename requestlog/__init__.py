"""The requests log: what clients asked or reported to the salon, by any channel, when
it was first answered and how it was resolved (seed 003). A domain app: no HTTP."""
