-- Plans are reference data every organization points at (organizations.plan_id defaults to 'free').
-- Prices: monthly fee in cents; overage rates in micro-dollars per unit (1 USD = 1,000,000).
INSERT INTO plans (id, name, monthly_price_cents, currency, included, overage_rates, hard_cap, active, created_at) VALUES
  ('free', 'Free', 0, 'usd',
   '{"participant_minutes":5000,"egress_minutes":60,"ingress_minutes":60,"tokens_issued":100000}',
   '{}', 1, 1, 1764288000000),
  ('pro', 'Pro', 5000, 'usd',
   '{"participant_minutes":50000,"egress_minutes":1000,"ingress_minutes":1000,"tokens_issued":1000000}',
   '{"participant_minutes":500,"egress_minutes":4000,"ingress_minutes":4000}', 0, 1, 1764288000000),
  ('scale', 'Scale', 50000, 'usd',
   '{"participant_minutes":750000,"egress_minutes":15000,"ingress_minutes":15000,"tokens_issued":20000000}',
   '{"participant_minutes":400,"egress_minutes":3000,"ingress_minutes":3000}', 0, 1, 1764288000000);
