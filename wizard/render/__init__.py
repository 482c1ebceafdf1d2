"""The files a repository needs to deploy through CodeDeploy: appspec.yml, hook script skeletons,
the deploy part of .travis.yml and a GitHub Actions workflow. No AWS calls and no Textual here."""
