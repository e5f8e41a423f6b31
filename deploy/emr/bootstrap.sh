#!/bin/bash
# EMR bootstrap action: installs tweetpipe on every node of the cluster the transform step
# (deploy/emr/step.json) runs on. EMR runs it as the `hadoop` user, before YARN is installed.
#
#   --bootstrap-actions Path=s3://BUCKET/tweetpipe/bootstrap.sh,Args=[s3://BUCKET/tweetpipe,SECRET_ID]
#
# s3://BUCKET/tweetpipe holds wheels/ (tweetpipe and every dependency, pyspark included: the
# nodes need no PyPI) and jars/ (the Spark jars of `tweetpipe services jars`); see
# deploy/README.md. SECRET_ID is the Secrets Manager secret with the database password (an RDS
# managed secret: JSON with a "password" key); only the master node, where the step's driver
# runs (client mode), fetches it, into a file only `hadoop` can read. Nothing secret is ever
# an argument.
#
# What the step relies on afterwards, on every node:
#   /opt/tweetpipe/venv                  tweetpipe with its own Spark (pyspark) and Python
#   /opt/tweetpipe/spark                 that Spark (pyspark's folder; spark.yarn.jars points
#                                        here, so no submission uploads its 460 MB of jars)
#   /opt/tweetpipe/bin/spark-submit      that Spark's spark-submit, pointed at EMR's YARN
#   /opt/tweetpipe/submit.py             the entry point (tweetpipe/transform/submit.py)
#   /opt/tweetpipe/jars/*.jar            PostgreSQL JDBC driver, Kafka connector
#   /etc/tweetpipe/rds-global-bundle.pem the RDS CA bundle (DB_SSLROOTCERT, read by executors)
set -euo pipefail

PREFIX=${1:?usage: bootstrap.sh s3://BUCKET/tweetpipe SECRET_ID}
SECRET_ID=${2:?usage: bootstrap.sh s3://BUCKET/tweetpipe SECRET_ID}
ROOT=/opt/tweetpipe
PYTHON=python3.11

sudo install -d -o "$(id -un)" -g "$(id -gn)" -m 755 "$ROOT" "$ROOT/bin" "$ROOT/jars"
sudo install -d -m 755 /etc/tweetpipe
command -v "$PYTHON" >/dev/null || sudo dnf install -y -q "$PYTHON"

wheels=$(mktemp -d)
aws s3 cp --recursive --only-show-errors "$PREFIX/wheels/" "$wheels/"
"$PYTHON" -m venv "$ROOT/venv"
"$ROOT/venv/bin/pip" install --quiet --no-index --find-links "$wheels" tweetpipe
rm -rf "$wheels"
aws s3 cp --recursive --only-show-errors "$PREFIX/jars/" "$ROOT/jars/"
sudo curl -fsSL -o /etc/tweetpipe/rds-global-bundle.pem \
  https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem
sudo chmod 644 /etc/tweetpipe/rds-global-bundle.pem

ln -sfn "$("$ROOT/venv/bin/python" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')" \
  "$ROOT/spark"
cat > "$ROOT/bin/spark-submit" <<WRAPPER
#!/bin/sh
# tweetpipe's Spark (the pyspark its venv pins) submitting to this cluster's YARN
export SPARK_HOME=$ROOT/spark
export HADOOP_CONF_DIR=\${HADOOP_CONF_DIR:-/etc/hadoop/conf}
export YARN_CONF_DIR=\${YARN_CONF_DIR:-/etc/hadoop/conf}
exec "\$SPARK_HOME/bin/spark-submit" "\$@"
WRAPPER
chmod 755 "$ROOT/bin/spark-submit"
ln -sf "$("$ROOT/venv/bin/python" -c 'import tweetpipe.transform.submit as m; print(m.__file__)')" \
  "$ROOT/submit.py"

if grep -q '"isMaster": *true' /mnt/var/lib/info/instance.json; then
  sudo install -d -o "$(id -un)" -g "$(id -gn)" -m 700 /etc/tweetpipe/credentials
  umask 077
  aws secretsmanager get-secret-value --secret-id "$SECRET_ID" --query SecretString \
      --output text \
    | "$ROOT/venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["password"])' \
    > /etc/tweetpipe/credentials/db_pass
fi
