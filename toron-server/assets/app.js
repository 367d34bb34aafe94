// The dashboard's script (not built yet).
