-- seed.sql: starting data for the `sluice demo` shop (see schema.sql): 300 customers,
-- 200 products stocked in 3 warehouses, 3,000 orders with 1-5 lines each. Generated with
-- generate_series and a fixed random() seed, so every demo starts from the same data
-- (apart from the uuid columns and timestamps relative to now()).

SELECT setseed(0.2024);

INSERT INTO customers (email, full_name, phone, country, birth_date, marketing_opt_in,
                       loyalty_points, preferences, tags, created_at, updated_at)
SELECT format('%s.%s%s@example.com', lower(f), translate(lower(l), 'ü ', 'u'), i),
       f || ' ' || l,
       CASE WHEN i % 4 = 0 THEN NULL ELSE format('+49 30 %s', 1000000 + (random() * 8999999)::int) END,
       (ARRAY['DE', 'FR', 'NL', 'IE', 'ES', 'IT', 'PL', 'SE', 'GB', 'US'])[1 + i % 10],
       date '1950-01-01' + (random() * 20000)::int,
       i % 3 = 0,
       (random() * 5000)::int,
       jsonb_build_object('newsletter', i % 3 = 0, 'language',
                          (ARRAY['de', 'fr', 'nl', 'en', 'es'])[1 + i % 5],
                          'sizes', jsonb_build_array('M', 'L')),
       CASE WHEN i % 7 = 0 THEN ARRAY['vip'] WHEN i % 5 = 0 THEN ARRAY['newsletter', 'b2b']
            ELSE '{}'::text[] END,
       t, t
FROM (SELECT i,
             (ARRAY['Anna', 'Ben', 'Clara', 'David', 'Emma', 'Felix', 'Greta', 'Hugo', 'Ines',
                    'Jonas', 'Karla', 'Luis', 'Mia', 'Noah', 'Olga', 'Paul'])[1 + i % 16] AS f,
             (ARRAY['Schmidt', 'Martin', 'de Vries', 'Murphy', 'Garcia', 'Rossi', 'Nowak',
                    'Lindqvist', 'Smith', 'Brown', 'Müller', 'Dubois', 'Jansen'])[1 + i % 13] AS l,
             now() - interval '400 days' + i * interval '1 hour' AS t
      FROM generate_series(1, 300) AS i) AS g
ORDER BY i;

INSERT INTO products (sku, name, description, category, price, weight_grams, rating,
                      attributes, thumbnail, is_active, created_at, updated_at)
SELECT format('SKU-%s-%s', upper(left(c, 3)), lpad(i::text, 5, '0')),
       initcap(a) || ' ' || n || ' ' || i,
       CASE WHEN i % 6 = 0 THEN NULL ELSE format('A %s %s from our %s range.', a, n, c) END,
       c,
       round((2 + random() * 298)::numeric, 2),
       50 + (random() * 4950)::int,
       CASE WHEN i % 9 = 0 THEN NULL ELSE round((1 + random() * 4)::numeric, 1)::double precision END,
       jsonb_build_object('color', (ARRAY['red', 'blue', 'black', 'white', 'green'])[1 + i % 5],
                          'warranty_months', 12 * (1 + i % 3)),
       decode(md5('product-' || i), 'hex'),
       i % 25 <> 0,
       now() - interval '500 days', now() - interval '500 days'
FROM (SELECT i,
             (ARRAY['electronics', 'kitchen', 'garden', 'books', 'toys', 'sports'])[1 + i % 6] AS c,
             (ARRAY['compact', 'classic', 'deluxe', 'eco', 'pro'])[1 + i % 5] AS a,
             (ARRAY['lamp', 'kettle', 'hose', 'novel', 'puzzle', 'ball', 'speaker', 'pan',
                    'rake', 'atlas', 'kite', 'racket'])[1 + i % 12] AS n
      FROM generate_series(1, 200) AS i) AS g
ORDER BY i;

INSERT INTO inventory (warehouse_code, product_id, quantity, reserved, last_counted, updated_at)
SELECT w, p.id, 20 + (random() * 480)::int, 0, current_date - (random() * 90)::int, now()
FROM products AS p
CROSS JOIN unnest(ARRAY['FRA', 'DUB', 'AMS']) AS w;

-- Orders: most are delivered, recent ones are still moving through the pipeline.
INSERT INTO orders (customer_id, status, warehouse_code, currency, shipping_address, client_ip,
                    notes, placed_at, shipped_at, updated_at)
SELECT 1 + (i * 7919) % 300,
       CASE WHEN i > 2950 THEN 'pending'
            WHEN i > 2900 THEN 'paid'
            WHEN i > 2850 THEN 'shipped'
            WHEN i % 37 = 0 THEN 'cancelled'
            ELSE 'delivered' END::order_status,
       (ARRAY['FRA', 'DUB', 'AMS'])[1 + i % 3],
       'EUR',
       jsonb_build_object('street', format('%s Harbour Road', 1 + i % 120),
                          'city', (ARRAY['Berlin', 'Dublin', 'Amsterdam', 'Paris', 'Madrid'])[1 + i % 5],
                          'postcode', lpad(((i * 37) % 99999)::text, 5, '0')),
       format('10.%s.%s.%s', i % 256, (i / 256) % 256, 1 + i % 250)::inet,
       CASE WHEN i % 11 = 0 THEN 'Leave at the door' END,
       t,
       CASE WHEN i <= 2900 THEN t + interval '1 day' END,
       t + interval '2 days'
FROM (SELECT i, now() - interval '365 days' + i * interval '175 minutes' AS t
      FROM generate_series(1, 3000) AS i) AS g
ORDER BY i;

INSERT INTO order_items (order_id, line_no, product_id, quantity, unit_price, discount)
SELECT o.id, l, p.id, 1 + (o.id * l) % 4, p.price,
       CASE WHEN (o.id + l) % 10 = 0 THEN 0.1000 ELSE 0 END
FROM orders AS o
CROSS JOIN LATERAL generate_series(1, 1 + (o.id * 13) % 5) AS l
JOIN products AS p ON p.id = 1 + (o.id * 31 + l * 17) % 200;

UPDATE orders AS o
SET total = x.total
FROM (SELECT order_id, round(sum(quantity * unit_price * (1 - discount)), 2) AS total
      FROM order_items GROUP BY order_id) AS x
WHERE x.order_id = o.id AND o.status <> 'cancelled';

-- Stock reserved by orders not yet shipped.
UPDATE inventory AS inv
SET reserved = x.qty
FROM (SELECT o.warehouse_code, i.product_id, sum(i.quantity)::int AS qty
      FROM orders AS o JOIN order_items AS i ON i.order_id = o.id
      WHERE o.status IN ('pending', 'paid')
      GROUP BY 1, 2) AS x
WHERE inv.warehouse_code = x.warehouse_code AND inv.product_id = x.product_id;

ANALYZE;
