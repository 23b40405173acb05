{{ config(materialized='incremental', unique_key='event_id') }}
-- Grain: one row per payment event (charge, refund, decline); amounts signed.
SELECT
  pay.event_id,
  pay.order_id,
  coalesce(CAST(strftime(pay.occurred_at AT TIME ZONE 'UTC', '%Y%m%d') AS INTEGER), -1) AS payment_date_key,
  coalesce(o.customer_key, '-1') AS customer_sk,
  pay.kind,
  pay.amount_cents,
  pay.currency,
  pay.occurred_at,
  pay.ingest_seq
FROM {{ ref('payments') }} pay
LEFT JOIN {{ ref('orders') }} o USING (order_id)
{% if is_incremental() %}
WHERE pay.ingest_seq > (SELECT coalesce(max(ingest_seq), 0) FROM {{ this }})
  OR pay.event_id IN (SELECT event_id FROM {{ this }} WHERE customer_sk = '-1')
{% endif %}
