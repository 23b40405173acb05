-- A confirmed order was charged its total and not refunded.
SELECT o.order_id, o.total_cents, coalesce(sum(p.amount_cents), 0) AS paid_cents
FROM {{ ref('orders') }} o
LEFT JOIN {{ ref('fct_payment') }} p USING (order_id)
WHERE o.status = 'CONFIRMED'
GROUP BY o.order_id, o.total_cents
HAVING coalesce(sum(p.amount_cents), 0) <> o.total_cents
