"""What the simulated LLM knows about short creative texts: word lists for tone and
genre (its "world knowledge"), how it reads a request for writing or judging such texts
(`reading`), how it writes (`writing`) and judges (`judging`). Used by the roles
`bench/sim/roles/creative_*.py`; see docs/quality-diversity.md."""
