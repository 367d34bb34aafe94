//! Incidents, rollbacks and postmortems (DESIGN.md section 11). Being built: see issue 15.
