// Canton's example 02 (multiple-sequencers-and-mediators.conf, unmodified) with its simple-ping.canton in
// JavaScript: a synchronizer of two distinct sequencers and two mediators; participant1 connects to both
// sequencers by handle, participant2 by URL (connect_bft), and they ping each other.
//   weft console -c multiple-sequencers-and-mediators.conf --script multiple-sequencers-ping.js
nodes.local.start()
bootstrap.synchronizer({
  synchronizerName: 'da',
  sequencers: Seq(sequencer1, sequencer2),
  mediators: Seq(mediator1, mediator2),
  synchronizerOwners: Seq(sequencer1, sequencer2),
})
participant1.synchronizers.connect_local_bft(Seq(sequencer1, sequencer2), 'da')
const url = async (sequencer) => (await sequencer.health.status).endpoints['public-api']
participant2.synchronizers.connect_bft(Seq(await url(sequencer1), await url(sequencer2)), 'da')
utils.retry_until_true(() => participant2.synchronizers.active('da'))
print(`participant2 → participant1: ${(await participant2.health.ping(participant1)).toFixed(0)} ms`)
print(`participant1 → participant2: ${(await participant1.health.ping(participant2)).toFixed(0)} ms`)
