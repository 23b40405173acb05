{{ config(materialized='incremental', unique_key=['order_id', 'line_no']) }}
-- Grain: one row per order line. The unit price is the one charged; the product is the version
-- valid when the order was placed. Lines of orders that changed since the last run are rebuilt,
-- and so are lines still pointing at an unknown product or customer, until it arrives.
WITH changed AS (
  SELECT order_id FROM {{ ref('orders') }}
  {% if is_incremental() %}
    WHERE last_ingest_seq > (SELECT coalesce(max(order_ingest_seq), 0) FROM {{ this }})
    UNION
    SELECT order_id FROM {{ this }} WHERE product_sk = '-1' OR customer_sk = '-1'
  {% endif %}
)
SELECT
  l.order_id,
  l.line_no,
  coalesce(CAST(strftime(o.placed_at AT TIME ZONE 'UTC', '%Y%m%d') AS INTEGER), -1) AS order_date_key,
  coalesce(c.customer_sk, '-1') AS customer_sk,
  coalesce(p.product_sk, '-1') AS product_sk,
  l.product_id,
  o.status AS order_status,
  coalesce(o.ship_to_country, 'unknown') AS ship_to_country,
  l.quantity,
  l.unit_price_cents,
  l.quantity * l.unit_price_cents AS gross_amount_cents,
  o.currency,
  o.placed_at,
  o.last_ingest_seq AS order_ingest_seq
FROM {{ ref('order_lines') }} l
JOIN changed USING (order_id)
JOIN {{ ref('orders') }} o USING (order_id)
LEFT JOIN {{ ref('dim_customer') }} c ON c.customer_sk = o.customer_key
LEFT JOIN {{ ref('dim_product') }} p
  ON p.product_id = l.product_id
  AND o.placed_at >= p.valid_from
  AND (o.placed_at < p.valid_to OR p.valid_to IS NULL)
