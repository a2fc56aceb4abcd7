// The library logs through an injected logger; tests keep the default one quiet unless asked.
process.env.DQ_LOG_LEVEL ??= "silent";
