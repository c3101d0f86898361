// Canton's simple-ping.canton (example 01) in JavaScript: start the local nodes, bootstrap a synchronizer
// with every sequencer and mediator of the config, connect participant1 through its sequencer's handle and
// participant2 through the sequencer's URL, wait until participant2 is connected, and ping both ways.
//   weft console -c simple-topology.conf --script simple-ping.js   (Canton's examples/01-simple-topology file)
nodes.local.start()
bootstrap.synchronizer_local('da')
participant1.synchronizers.connect_local(sequencer1, 'da')
participant2.synchronizers.connect('da', (await sequencer1.health.status).endpoints['public-api'])
utils.retry_until_true(() => participant2.synchronizers.active('da'))
print(`participant2 → participant1: ${(await participant2.health.ping(participant1)).toFixed(0)} ms`)
print(`participant1 → participant2: ${(await participant1.health.ping(participant2)).toFixed(0)} ms`)
