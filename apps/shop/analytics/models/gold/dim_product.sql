{{ config(materialized='table') }}
-- Products, SCD type 2: one row per version (name and list price over time), valid_to null for
-- the current one. Facts join it at their own time. '-1' is the unknown product, for a line whose
-- product has not arrived yet (late-arriving dimension).
SELECT
  md5(product_id || '|' || version_no) AS product_sk,
  product_id,
  version_no,
  sku,
  name,
  list_price_cents,
  currency,
  valid_from,
  valid_to,
  valid_to IS NULL AS is_current
FROM {{ ref('product_versions') }}
UNION ALL
SELECT '-1', 'unknown', 0, 'unknown', 'unknown', NULL, NULL, NULL, NULL, true
