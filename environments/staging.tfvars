# The staging environment's accounts (committed: ids and role ARNs are not secrets). Every stack of
# environments/staging.toml is planned with this file (atlantis.yaml); see terraform.tfvars.example.
region = "eu-west-1"

producer_account_id      = "111111111111"
producer_deploy_role_arn = "arn:aws:iam::111111111111:role/terraform-deploy"
consumer_account_id      = "222222222222"
consumer_deploy_role_arn = "arn:aws:iam::222222222222:role/terraform-deploy"

tags = {
  project     = "xacct-streaming"
  environment = "staging"
}
