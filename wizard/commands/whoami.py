"""`wizard whoami`: which account, principal, region and endpoint this run would use."""

from __future__ import annotations

import argparse

from wizard.commands._context import aws_context
from wizard.output import print_json


def run(args: argparse.Namespace) -> int:
    with aws_context(args, banner=not args.json) as ctx:
        doc = ctx.describe()
    if args.json:
        print_json(doc)
        return 0
    print(f"account   {doc['account']}")
    print(f"arn       {doc['arn']}")
    print(f"region    {doc['region']}")
    print(f"endpoint  {doc['endpoint'] or 'AWS (default)'}")
    if doc["sandbox"] and doc["embedded"]:
        print("sandbox   yes: the emulator this command started (gone when it ends), not AWS")
    elif doc["sandbox"]:
        print(f"sandbox   yes: the `wizard sandbox` server at {doc['endpoint']}, not AWS")
    return 0
