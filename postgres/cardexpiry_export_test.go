package postgres

// SQLQueueCardReminders is the daily queue statement, for the benchmark's
// baseline.
var SQLQueueCardReminders = sqlQueueCardReminders
