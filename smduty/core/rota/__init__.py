"""The duty rota and the daily check: who checks each day, weekend duty blocks, leave, the
check itself, handover notes and reminders."""
