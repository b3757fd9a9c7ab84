"""Building blocks: one construct per file, each named after what it creates (key, stream, consumer,
function, table, alarms, delivery stream, API), plus the provider bindings (`aws`) and the IAM
policy documents (`policy`) they are built from. Providers are passed in, never made here."""
