"""The catalogue (services, staff, hours, time off), availability (`availability`, a pure
engine, loaded by `selectors`) and bookings with their holds and events, under the
database's exclusion constraint. A domain app: no HTTP."""
