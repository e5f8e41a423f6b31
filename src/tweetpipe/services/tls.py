"""The local stack's TLS and SASL material (`tweetpipe services up --secure`).

Under `<TWEETPIPE_HOME>/tls`: a CA (`ca.pem`, its key `ca.key`), one server certificate for
127.0.0.1 and localhost (`server.pem`, `server.key`, both in `server-keystore.pem` for Kafka's
PEM keystore) that also serves as the Kafka nodes' client certificate towards the controller
listener (mutual TLS), and random passwords in files: `kafka.password` (the SCRAM-SHA-512 user
`tweetpipe`), `broker.password` (the user the brokers log in with to each other) and
`db.password` (PostgreSQL's user). Keys and passwords are mode 0600. `client.env` lists the
settings a client needs: file paths only, never a secret. All is made with `openssl`, whose
command lines hold no secret (the keys are not encrypted: the files' modes protect them).

The local stack is secure when the settings point at this home's CA: `secured(settings)`;
`services up` then starts Kafka with a SASL_SSL listener and PostgreSQL with `hostssl` only.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tweetpipe.errors import ServiceError, last_line
from tweetpipe.services import system
from tweetpipe.settings import Settings, load_settings

KAFKA_USER = "tweetpipe"
BROKER_USER = "broker"
DAYS = "825"


@dataclass(frozen=True)
class Material:
    folder: Path

    @property
    def ca(self) -> Path:
        return self.folder / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.folder / "ca.key"

    @property
    def cert(self) -> Path:
        return self.folder / "server.pem"

    @property
    def key(self) -> Path:
        return self.folder / "server.key"

    @property
    def keystore(self) -> Path:
        """Key and certificate in one PEM file: Kafka's `ssl.keystore.type=PEM`."""
        return self.folder / "server-keystore.pem"

    @property
    def kafka_password(self) -> Path:
        return self.folder / "kafka.password"

    @property
    def broker_password(self) -> Path:
        return self.folder / "broker.password"

    @property
    def db_password(self) -> Path:
        return self.folder / "db.password"

    @property
    def client_env(self) -> Path:
        return self.folder / "client.env"

    def secret(self, path: Path) -> str:
        return path.read_text(encoding="utf-8").strip()


def material(settings: Settings) -> Material:
    return Material(settings.state_dir / "tls")


def secured(settings: Settings) -> bool:
    """Do the settings ask for the secure local stack (its CA, SASL_SSL)?"""
    ca = material(settings).ca
    return (settings.kafka_security_protocol == "SASL_SSL"
            and settings.kafka_ssl_ca_location is not None
            and settings.kafka_ssl_ca_location.expanduser().resolve() == ca)


def client_settings(found: Material) -> dict[str, str]:
    """The settings a client of the secure local stack needs (paths, no secret)."""
    return {
        "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "KAFKA_SASL_USERNAME": KAFKA_USER,
        "KAFKA_SASL_PASSWORD_FILE": str(found.kafka_password),
        "KAFKA_SSL_CA_LOCATION": str(found.ca),
        "DB_SSLMODE": "verify-full",
        "DB_SSLROOTCERT": str(found.ca),
        "DB_PASS_FILE": str(found.db_password),
    }


def secure_settings(settings: Settings) -> Settings:
    """`settings` made the secure local stack's: the material made (once), the settings of
    `client_settings` on top, `client.env` written."""
    found = ensure(settings)
    given = {k: v for k, v in settings.as_environment().items() if k != "DB_PASS"}
    given.pop("TWEETPIPE_ENV_FILE", None)
    result = load_settings(_env_file=None, **{**given, **client_settings(found)})
    lines = [f"{name}={value}" for name, value in client_settings(found).items()]
    lines += [f"TWEETPIPE_HOME={settings.state_dir}",
              f"KAFKA_BOOTSTRAP_SERVERS={settings.kafka_bootstrap_servers}",
              f"DB_HOST={settings.db_host}", f"DB_PORT={settings.db_port}",
              f"DB_USER={settings.db_user}", f"DB_NAME={settings.db_name}"]
    found.client_env.write_text("\n".join(lines) + "\n")
    return result


def ensure(settings: Settings) -> Material:
    """Make what is missing of the material (idempotent)."""
    found = material(settings)
    found.folder.mkdir(parents=True, exist_ok=True)
    found.folder.chmod(0o755)  # the postgres account reads the CA; keys stay 0600
    for path in (found.kafka_password, found.broker_password, found.db_password):
        if not path.exists():
            _write_private(path, secrets.token_hex(24) + "\n")
    if not found.ca.exists():
        _make_ca(found)
    if not found.cert.exists():
        _make_server(found)
    return found


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    path.chmod(0o600)


def _openssl(*args: str) -> None:
    openssl = system.require("openssl", "openssl")
    done = subprocess.run([openssl, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ServiceError(f"openssl {args[0]} failed: {last_line(done.stderr)}")


def _new_key(path: Path) -> None:
    _openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out",
             str(path))
    path.chmod(0o600)


def _make_ca(found: Material) -> None:
    _new_key(found.ca_key)
    _openssl("req", "-x509", "-new", "-key", str(found.ca_key), "-sha256", "-days", DAYS,
             "-subj", "/CN=tweetpipe local CA", "-addext",
             "basicConstraints=critical,CA:TRUE", "-addext",
             "keyUsage=critical,keyCertSign,cRLSign", "-out", str(found.ca))


def _make_server(found: Material) -> None:
    _new_key(found.key)
    request = found.folder / "server.csr"
    extensions = found.folder / "server.ext"
    extensions.write_text("basicConstraints=CA:FALSE\n"
                          "keyUsage=critical,digitalSignature,keyEncipherment\n"
                          "extendedKeyUsage=serverAuth,clientAuth\n"
                          "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\n")
    _openssl("req", "-new", "-key", str(found.key), "-subj", "/CN=localhost", "-out",
             str(request))
    _openssl("x509", "-req", "-in", str(request), "-CA", str(found.ca), "-CAkey",
             str(found.ca_key), "-CAcreateserial", "-days", DAYS, "-sha256", "-extfile",
             str(extensions), "-out", str(found.cert))
    request.unlink()
    _write_private(found.keystore, found.key.read_text() + found.cert.read_text())
