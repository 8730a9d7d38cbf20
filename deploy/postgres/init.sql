-- Run once by the postgres image on an empty data directory
-- (mounted into /docker-entrypoint-initdb.d by docker-compose.yml).
-- Each service owns its database; none reads another's.
CREATE DATABASE carethread_referrals;
CREATE DATABASE carethread_care_plans;
CREATE DATABASE carethread_directory;
CREATE DATABASE carethread_outcomes;
CREATE DATABASE carethread_mdt;
