// The distributed application provider deploys the synchronizer (the seed's "Deploy a synchronizer"): the
// sequencer's nodes and the mediator run already (weft daemon, or weft run); this bootstraps a permissioned
// synchronizer (RestrictedOpen: only allow-listed participants may join) with the mediator, and waits until the
// mediator processes.
//   weft console -c network.conf --script provider-deploy.js
const synchronizer = await bootstrap.synchronizer({
  synchronizerName: 'seed',
  sequencers: Seq(sequencer1),
  mediators: Seq(mediator1),
  onboardingRestriction: OnboardingRestriction.RestrictedOpen,
})
print(`synchronizer ${synchronizer.synchronizerId}`)
utils.retry_until_true(async () => (await mediator1.health.status).ready)
