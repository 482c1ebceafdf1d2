"""The operating systems behind the AMIs the sandbox serves, as far as a deployment can tell.

An instance's OS is decided by its AMI (the public SSM parameters name them; `extensions`
registers the images). What matters to a deployment is what ships with that OS: the shell that
runs a script without a shebang (`/bin/sh`), bash's version (its error wording changed in 5.2),
coreutils' `env`, the interpreters present in the base image, the Ruby its package manager
installs (the 1.x agent runs on it), and whether the AMI asks for IMDSv2 by default.

Versions are those of the distributions' own packages: Amazon Linux 2 (bash 4.2.46, coreutils
8.22, `yum install ruby` = 2.0.0), Amazon Linux 2023 (bash 5.2.15, coreutils 8.32, ruby3.2),
Ubuntu 20.04 focal (bash 5.0.17, dash, coreutils 8.30, ruby2.7), 22.04 jammy (bash 5.1.16,
coreutils 8.32, ruby3.0), 24.04 noble (bash 5.2.21, coreutils 9.4, ruby3.2). Amazon Linux 2023
AMIs are registered with `ImdsSupport: v2.0`, so instances launched from them require IMDSv2
unless the launch says otherwise (Amazon Linux 2023 User Guide, "IMDSv2").
"""

from __future__ import annotations

from dataclasses import dataclass

_SHELLS = frozenset({"/bin/sh", "/usr/bin/sh", "/bin/bash", "/usr/bin/bash", "/usr/bin/env"})


@dataclass(frozen=True)
class OsImage:
    """One distribution as the agent and hook scripts meet it."""

    key: str  # al2 | al2023 | ubuntu-20.04 | ubuntu-22.04 | ubuntu-24.04
    platform_name: str  # as SSM DescribeInstanceInformation reports it
    platform_version: str
    default_user: str
    package_type: str  # rpm | deb (what `./install auto` picks)
    ruby: str  # the version `yum/dnf/apt install ruby…` brings
    bash: tuple[int, int]
    sh: str  # what /bin/sh is: "bash" (posix mode) or "dash"
    coreutils: tuple[int, int]
    interpreters: frozenset[str]  # absolute paths in the base image a shebang may name
    imds_v2_default: bool

    @property
    def dash(self) -> bool:
        return self.sh == "dash"


IMAGES: dict[str, OsImage] = {
    "al2": OsImage(
        "al2",
        "Amazon Linux",
        "2",
        "ec2-user",
        "rpm",
        "2.0.0",
        (4, 2),
        "bash",
        (8, 22),
        _SHELLS
        | {"/bin/env", "/usr/bin/python", "/usr/bin/python2", "/usr/bin/python2.7"}
        | {"/usr/bin/perl"},
        False,
    ),
    "al2023": OsImage(
        "al2023",
        "Amazon Linux",
        "2023",
        "ec2-user",
        "rpm",
        "3.2.2",
        (5, 2),
        "bash",
        (8, 32),
        _SHELLS | {"/bin/env", "/usr/bin/python3", "/usr/bin/python3.9"},
        True,
    ),
    "ubuntu-20.04": OsImage(
        "ubuntu-20.04",
        "Ubuntu",
        "20.04",
        "ubuntu",
        "deb",
        "2.7.0",
        (5, 0),
        "dash",
        (8, 30),
        _SHELLS | {"/usr/bin/python3", "/usr/bin/python3.8", "/usr/bin/perl", "/bin/dash"},
        False,
    ),
    "ubuntu-22.04": OsImage(
        "ubuntu-22.04",
        "Ubuntu",
        "22.04",
        "ubuntu",
        "deb",
        "3.0.2",
        (5, 1),
        "dash",
        (8, 32),
        _SHELLS | {"/usr/bin/python3", "/usr/bin/python3.10", "/usr/bin/perl", "/bin/dash"},
        False,
    ),
    "ubuntu-24.04": OsImage(
        "ubuntu-24.04",
        "Ubuntu",
        "24.04",
        "ubuntu",
        "deb",
        "3.2.3",
        (5, 2),
        "dash",
        (9, 4),
        _SHELLS | {"/usr/bin/python3", "/usr/bin/python3.12", "/usr/bin/perl", "/bin/dash"},
        False,
    ),
}

# Interpreters a package brings (present only when the image has them or the user data installs
# the package); a shebang naming any other absolute path is left to the environment (a hook may
# have installed it), never failed on a guess.
PACKAGED = {
    "/usr/bin/python": ("python2", "python-is-python3", "python"),
    "/usr/bin/python2": ("python2", "python"),
    "/usr/bin/node": ("nodejs",),
    "/usr/bin/nodejs": ("nodejs",),
    "/usr/bin/php": ("php", "php-cli"),
    "/usr/bin/ruby": ("ruby", "ruby-full"),
}


def image_for(ami_name: str) -> OsImage:
    """The OS of an AMI, from its name as its publisher names it (Amazon Linux 2023 otherwise)."""
    name = (ami_name or "").lower()
    if "ubuntu" in name:
        for version in ("20.04", "22.04", "24.04"):
            if version in name:
                return IMAGES[f"ubuntu-{version}"]
        return IMAGES["ubuntu-24.04"]
    if name.startswith("amzn2-ami") or "amazon linux 2 " in name:
        return IMAGES["al2"]
    return IMAGES["al2023"]
