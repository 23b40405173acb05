{{ config(materialized='incremental', unique_key='event_id', tags=['payments']) }}
-- One row per payment event: a charge (positive), a refund (negative) or a decline (zero).
SELECT
  event_id,
  data->>'orderId' AS order_id,
  CASE event_type
    WHEN 'payments.Charged' THEN 'charge'
    WHEN 'payments.Refunded' THEN 'refund'
    ELSE 'decline'
  END AS kind,
  CASE event_type
    WHEN 'payments.Charged' THEN CAST(data->>'amountCents' AS BIGINT)
    WHEN 'payments.Refunded' THEN -CAST(data->>'amountCents' AS BIGINT)
    ELSE 0
  END AS amount_cents,
  data->>'currency' AS currency,
  occurred_at,
  ingest_seq
FROM {{ ref('events') }}
WHERE event_type IN ('payments.Charged', 'payments.Refunded', 'payments.Declined') AND reject_reason IS NULL
{% if is_incremental() %}
  AND ingest_seq > (SELECT coalesce(max(ingest_seq), 0) FROM {{ this }})
{% endif %}
