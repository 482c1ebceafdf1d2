"""codedeploy-wizard: set up AWS CodeDeploy on EC2 and explain failed deployments."""

__version__ = "0.1.0"
PROJECT_FILE = ".codedeploy-wizard.yml"
TAG_KEY = "codedeploy-wizard:application"
