-- A licence's event data is the licence as GET /api/v1/licenses/{sen}
-- shows it: since migration 010 its card says who added it (added_by,
-- left out when unknown), so the events' view says so too.
CREATE OR REPLACE FUNCTION webhook_license_view(lic bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'sen', l.sen, 'product', l.product, 'deployment', l.deployment,
        'billing_cycle', l.billing_cycle, 'status', l.status,
        'next_billing_date', to_char(l.next_billing_date, 'YYYY-MM-DD'),
        'site', nullif(l.site, ''),
        'site_admins', coalesce((SELECT jsonb_agg(a.email ORDER BY a.email)
                                 FROM site_admins s JOIN accounts a ON a.id = s.account_id
                                 WHERE s.license_id = l.id), '[]'),
        'contacts', coalesce((SELECT jsonb_agg(jsonb_build_object('email', a.email, 'role', c.role,
                                      'primary', c.is_primary, 'account_status', a.status)
                                      ORDER BY c.role, c.is_primary DESC, a.email)
                              FROM license_contacts c JOIN accounts a ON a.id = c.account_id
                              WHERE c.license_id = l.id), '[]'),
        'payment_method', (SELECT jsonb_build_object('brand', p.brand, 'last4', p.last4,
                                                     'exp_month', p.exp_month, 'exp_year', p.exp_year)
                                  || CASE WHEN p.added_by IS NULL THEN '{}'::jsonb
                                          ELSE jsonb_build_object('added_by', p.added_by) END
                           FROM payment_methods p WHERE p.license_id = l.id AND p.is_default))
    FROM licenses l WHERE l.id = lic $$;
-- Pinned like every function (migration 011).
DO $$ BEGIN
    EXECUTE format('ALTER FUNCTION webhook_license_view(bigint) SET search_path = %I, pg_temp', current_schema());
END $$;

---- create above / drop below ----

CREATE OR REPLACE FUNCTION webhook_license_view(lic bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'sen', l.sen, 'product', l.product, 'deployment', l.deployment,
        'billing_cycle', l.billing_cycle, 'status', l.status,
        'next_billing_date', to_char(l.next_billing_date, 'YYYY-MM-DD'),
        'site', nullif(l.site, ''),
        'site_admins', coalesce((SELECT jsonb_agg(a.email ORDER BY a.email)
                                 FROM site_admins s JOIN accounts a ON a.id = s.account_id
                                 WHERE s.license_id = l.id), '[]'),
        'contacts', coalesce((SELECT jsonb_agg(jsonb_build_object('email', a.email, 'role', c.role,
                                      'primary', c.is_primary, 'account_status', a.status)
                                      ORDER BY c.role, c.is_primary DESC, a.email)
                              FROM license_contacts c JOIN accounts a ON a.id = c.account_id
                              WHERE c.license_id = l.id), '[]'),
        'payment_method', (SELECT jsonb_build_object('brand', p.brand, 'last4', p.last4,
                                                     'exp_month', p.exp_month, 'exp_year', p.exp_year)
                           FROM payment_methods p WHERE p.license_id = l.id AND p.is_default))
    FROM licenses l WHERE l.id = lic $$;
-- Pinned like every function (migration 011).
DO $$ BEGIN
    EXECUTE format('ALTER FUNCTION webhook_license_view(bigint) SET search_path = %I, pg_temp', current_schema());
END $$;
