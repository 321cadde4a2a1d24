"""TDP Kiosk: touchscreen kiosk and SMS appliance for a Vietnamese residential group."""
from setuptools import find_packages, setup

setup(
    name="tdp-kiosk",
    version="0.1.0",
    description="Tổ dân phố điện tử: kiosk, SMS gateway and officials' hub",
    python_requires=">=3.11",
    packages=find_packages(include=["kiosk", "kiosk.*", "sms", "sms.*", "hardware", "hardware.*", "hub", "hub.*"]),
    include_package_data=True,
    package_data={
        "kiosk": ["data/*", "ui/*.kv", "ui/assets/*"],
        "hardware": ["fonts/*"],
        "hub": ["templates/*", "static/*", "common-passwords.txt", "migrations/*", "migrations/versions/*"],
    },
    install_requires=[
        "kivy>=2.3,<2.4",
        "pyserial>=3.5,<4",
        "gpiozero>=2.0,<3",
        "sqlite-utils>=3.36,<4",
        "requests>=2.31,<3",
        "pycups>=2.0.1,<3",
        "qrcode>=7.4,<9",
        "openpyxl>=3.1,<4",
        "python-docx>=1.1,<2",
        "Pillow>=10.0,<12",
        "reportlab>=4.0,<5",
        "starlette>=0.37,<1",
        "uvicorn>=0.29,<1",
        "httptools>=0.6,<1",
        "jinja2>=3.1,<4",
        "python-multipart>=0.0.9,<1",
        "sqlalchemy>=2.0,<3",
        "alembic>=1.13,<2",
        "psycopg[binary]>=3.1,<4",
        "cryptography>=42,<51",        # AES-GCM and scrypt for the encrypted backups
        "packaging>=23,<27",           # version numbers of upgrade packages
        "holidays>=0.60,<1",
    ],
    extras_require={
        "test": [
            "pytest>=8,<9",
            "hypothesis>=6.100,<7",
            "pytest-timeout>=2.3,<3",
            "playwright>=1.44,<2",
            "httpx>=0.27,<1",
            "msoffcrypto-tool>=5.4,<7",  # builds real password-protected .xlsx files for import tests
            "wheel>=0.42,<1",            # the upgrade tests build real wheels of a test version
        ],
    },
    entry_points={"console_scripts": ["tdp = kiosk.cli:main"]},
)
