"""bao inside other training frameworks, as plugins that call bao's own code (each needs its optional extra)."""
