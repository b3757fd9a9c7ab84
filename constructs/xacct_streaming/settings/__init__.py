"""Settings: typed, frozen props validated on creation, every default in one place, the settings
file reader and the catalog of stack kinds. Nothing here imports cdktf, so a bad setting is
reported in milliseconds, before any output is touched."""
