import { test } from 'node:test';
import assert from 'node:assert/strict';
import { minuteOfDayIn } from '../../appliance/main.ts';

test('backfill windows follow the store time zone from NetBox, daylight saving included', () => {
  const berlin = minuteOfDayIn('Europe/Berlin');
  assert.equal(berlin(Date.UTC(2026, 0, 1, 22, 30)), 23 * 60 + 30); // CET, UTC+1
  assert.equal(berlin(Date.UTC(2026, 6, 1, 22, 30)), 30); // CEST, UTC+2: past midnight
  const ny = minuteOfDayIn('America/New_York');
  assert.equal(ny(Date.UTC(2026, 6, 1, 3, 5)), 23 * 60 + 5);
  // No zone: the process's own.
  const local = minuteOfDayIn('');
  const t = Date.UTC(2026, 3, 2, 10, 0);
  assert.equal(local(t), new Date(t).getHours() * 60 + new Date(t).getMinutes());
});
