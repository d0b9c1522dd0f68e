-- outbox.sql: the outbox tables of outbox_schema.sql filled while the EventRouter pairs of
-- transforms_diff.sh stream: JSON payloads (jsonb, and text to keep the text exactly as written: exponents,
-- duplicate keys, trailing text, blanks), the payload shapes EventRouter's schema inference takes and the
-- ones it leaves as text, updates (skipped with a warning), deletes (dropped), a null payload.
INSERT INTO outbox VALUES
  ('00000000-0000-4000-8000-000000000001', 'Order', 'o-1', 'OrderCreated',
   '{"id": 1, "lines": [{"sku": "a", "qty": 2}, {"sku": "b", "qty": 1, "note": "gift"}, {"sku": "c", "qty": 1}], "total": 12.5, "paid": false}', DEFAULT, 0, 1),
  ('00000000-0000-4000-8000-000000000002', 'Customer', 'c-1', 'CustomerCreated',
   '{"name": "Zoë", "tags": ["vip", null], "addr": {"city": "Köln", "zip": null}, "nothing": null, "empty": [], "big": 3000000000, "neg": -1, "grid": [[1, 2], [3]]}', NULL, 1, 1),
  ('00000000-0000-4000-8000-000000000003', 'Order', 'o-2', 'OrderCreated',
   '{"id": 2, "lines": [{"sku": "d", "qty": 5}], "total": 99, "paid": true}', DEFAULT, 2, 2);
BEGIN;
INSERT INTO outbox VALUES
  ('00000000-0000-4000-8000-000000000004', 'Order', 'o-3', 'OrderNoted', '"just a string"', DEFAULT, NULL, 1),
  ('00000000-0000-4000-8000-000000000005', 'Order', 'o-3', 'OrderOdd', '{"mixed": [1, "x"]}', DEFAULT, 1, 1),
  ('00000000-0000-4000-8000-000000000006', 'Shipment', 's-1', 'ShipmentCleared', NULL, DEFAULT, 0, 1),
  ('00000000-0000-4000-8000-000000000007', 'Shipment', 's-1', 'ShipmentMade', '{}', DEFAULT, 2, 1);
COMMIT;
UPDATE outbox SET type = 'OrderChanged' WHERE id = '00000000-0000-4000-8000-000000000001';
DELETE FROM outbox WHERE id = '00000000-0000-4000-8000-000000000002';
INSERT INTO outbox_text VALUES
  ('00000000-0000-4000-8000-000000000101', 'Order', 'o-9', 'OrderCreated', '{"f": 1.5e3, "g": 1e-7, "h": 0.1, "z": -0.0, "i": -0, "a": 1, "a": "dup"}', DEFAULT, 0, 1),
  ('00000000-0000-4000-8000-000000000102', 'Order', 'o-9', 'OrderTrailing', '{"x": 1} and then some', DEFAULT, 1, 1),
  ('00000000-0000-4000-8000-000000000103', 'Order', 'o-9', 'OrderBlank', '   ', DEFAULT, 2, 1),
  ('00000000-0000-4000-8000-000000000104', 'Order', 'o-9', 'OrderSpaced', ' {"x": 1}', DEFAULT, NULL, 1),
  ('00000000-0000-4000-8000-000000000105', 'Order', 'o-9', 'OrderBroken', '{"x": ', DEFAULT, 0, 1),
  ('00000000-0000-4000-8000-000000000106', 'Customer', 'c-9', 'CustomerCreated', '{"name": "a\u0000b", "esc": "\"\\/\b\f\n\r\t\u00e9\ud83d\ude00"}', DEFAULT, 0, 1),
  ('00000000-0000-4000-8000-000000000107', 'Order', 'o-9', 'OrderSame', '{"id": 3, "lines": [{"sku": "e", "qty": 1}], "total": 1.25, "paid": true}', DEFAULT, 0, 1);
DELETE FROM outbox_text WHERE id = '00000000-0000-4000-8000-000000000103';
INSERT INTO outbox VALUES ('00000000-0000-4000-8000-0000000000ff', 'Sentinel', 'end', 'EndMarker', '{"end": true}', DEFAULT, 0, 1);
